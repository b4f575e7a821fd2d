"""How long a test waits for a job before it calls the job hung.

A ceiling against a job that never ends, not a speed expectation: a busy machine may run a tiny training ten
times slower than an idle one, and the test must still pass there.
"""

JOB_CEILING_SECONDS = 1800.0
# A server or a job process starting: seconds on an idle machine, far more on a busy one.
START_CEILING_SECONDS = 180.0
