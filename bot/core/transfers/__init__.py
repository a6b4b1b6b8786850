"""Transfers between stores: the planner (plan.py) and the transfers people act on (book.py)."""
