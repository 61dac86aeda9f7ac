"""Helpers the test modules share: starting the dashboard and driving it in a browser, opening pages with AppTest,
running the command line, making datasets, waiting, and checking that a resumed run continues exactly.

Fixtures live in tests/conftest.py, where pytest finds them for every module without an import. No test module
imports another test module: what two of them need is here, split by concern, one small module each.
"""
