"""Coverage-guided fuzzing of the sans-I/O core (``fuzz_framer.py``), with checks shared with the tests."""
