"""Check: run the assignment's registered checks against a jailed student."""
