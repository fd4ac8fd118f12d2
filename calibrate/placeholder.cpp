// Placeholder until calibrate lands (issue 5).
