"""The demo contact centre's data: Hunan's regions, realistic fake customers and their history."""
