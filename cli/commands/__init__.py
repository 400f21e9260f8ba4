"""Typer commands: parse options, call the library, render with rich, set the exit code."""
