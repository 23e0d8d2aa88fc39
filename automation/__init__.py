"""Jobs, schedules (Asia/Seoul) and sensors over the asset graph."""

import dagster as dg

from automation.jobs import JOBS
from automation.schedules import SCHEDULES
from automation.sensors import SENSORS

defs = dg.Definitions(jobs=JOBS, schedules=SCHEDULES, sensors=SENSORS)
