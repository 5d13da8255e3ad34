"""Who is online: user presence and operator availability with capacity."""
