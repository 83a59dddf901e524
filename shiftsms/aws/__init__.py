"""AWS adapters: each takes an injected boto3 client and speaks in domain terms."""
