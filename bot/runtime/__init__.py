"""The shell's stages: intake (server), routing, workers (pipeline), executor, board flusher, sweepers,
leases, health, sync.
"""
