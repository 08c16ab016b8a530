"""One module per command; each is a plain function that the CLI and the tests call directly."""
