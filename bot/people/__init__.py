"""The office's people on paper: roster files in, invitation lists and QR slips out."""
