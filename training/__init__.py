"""Training, evaluation and export of the models the nodes run (torch; not needed at run time)."""
