"""The course build: small named steps that turn the single sources into every generated file."""
