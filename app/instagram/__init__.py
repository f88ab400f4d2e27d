"""Instagram growth snapshots: follower, following and media counts of ordered-for profiles over time."""
