"""Community and social proof: groups (社群), content, reviews, trials (one Django app per part)."""
