// Placeholder until reports land (issues 3 and 6).
