{
  "targets": [
    {
      "target_name": "coffer_memory",
      "sources": ["memory.c"]
    }
  ]
}
