"""What people read: report folders, figures, Word documents, exports and the dashboard."""
