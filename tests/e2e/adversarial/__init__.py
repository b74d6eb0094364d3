"""The red team's attack batch (issue 8): attack definitions and the harness that grades them."""
