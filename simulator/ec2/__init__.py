"""The simulated EC2 Query API (with EKS and STS on the same port)."""
