"""The designers at ``/designer``: administrators change menus, entities, screens, queries, category
trees, roles and IVR flows in the browser; changes gather in drafts, are checked live and are published as
metadata revisions that every runtime part picks up without a restart."""
