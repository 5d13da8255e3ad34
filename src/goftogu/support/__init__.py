"""The support desk (document 000): chat documents, intake, routing, tickets, operators."""
