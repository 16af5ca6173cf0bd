SELECT bytes FROM components WHERE sha256 = $1
