"""Compile checked policies and grade accounts with them."""
