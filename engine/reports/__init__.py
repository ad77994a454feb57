"""Reports people take away: the Excel writer every export shares, and statistics defined as data."""
