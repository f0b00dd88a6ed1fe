"""Never ran: a missing closing parenthesis."""

def build_model(:
    return None
