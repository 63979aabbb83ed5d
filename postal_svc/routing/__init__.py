"""Route planning core: distance matrices, the day's problem model, solvers and a feasibility checker.

Pure domain code: no Flask, marshmallow or SQLAlchemy. PyVRP is imported only when solving.
"""
