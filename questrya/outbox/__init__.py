"""The job outbox: jobs are recorded with the data that needs them, and queued after commit.

If Redis is down at commit time the record stays, and a relay queues it once Redis is back.
"""
