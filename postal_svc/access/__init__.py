"""API clients: who may call the service, in which role, for which agencies or post offices."""
