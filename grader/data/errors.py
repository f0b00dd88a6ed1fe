"""The one error the data layer raises: a message meant to be read by a person."""


class DataError(Exception):
    """A dataset is missing, truncated or not what it claims to be."""
