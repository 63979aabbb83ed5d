"""Console area: orders (views register on console.base.blp)."""
