"""Background work: RQ jobs (settle, release, refund) and the APScheduler loop that feeds them."""
