"""Running specs: sessions (one seed), trials (seeds in parallel), modes and schedules."""
