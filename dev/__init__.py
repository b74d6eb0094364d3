"""Development tools: not part of the product, its fingerprint or autograder.zip."""
