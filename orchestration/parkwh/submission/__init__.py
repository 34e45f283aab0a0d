"""The yearly submission: its format (spec), readers, validation and writers."""
