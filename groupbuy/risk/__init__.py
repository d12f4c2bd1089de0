"""Risk control against 薅羊毛, seat squatting and fake groups: the signals of each open, join and payment
(signals.py), pure rules over them and the recorded history (rules.py), the decision and its log
(decisions.py), blocklists (blocklist.py), the review of groups whose fill looks fake (review.py), and
replaying a rule change over the log before switching it on (replay.py)."""
