"""Tools that build the course (run the chapters, build the book); not imported by the chapters."""
