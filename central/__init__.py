"""central: the system of record for orgs, projects, runs, results and their history."""
