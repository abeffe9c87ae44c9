"""Writers for the output contract (rings.json, rings.csv, scores.csv, report.md)."""
