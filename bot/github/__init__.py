"""The seam to GitHub: the gateway (auth, typed calls, retries, limits), webhook event models, redelivery."""
