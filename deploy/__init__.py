"""Local-network tooling: private service instances (RabbitMQ, PostgreSQL) and start/stop."""
