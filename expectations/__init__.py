"""Great Expectations suites (declared in code), the runner and the check history for data stewards."""
