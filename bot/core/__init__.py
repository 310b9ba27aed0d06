"""THE PURE CORE: the command and title language, decide, the renderers (replies, checklist, board,
report, dashboard data), the data model and the actions. No I/O, no clock, no shell module:
`tests/test_house.py` keeps it so.
"""
