// Placeholder until io lands (issue 2).
