"""hackathon-bot: a GitHub App that runs open-source contribution campaigns."""

__version__ = "0.1.0"
