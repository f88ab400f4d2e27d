"""The sidebar: a group is shown only when it holds a page the staff member may open."""

from __future__ import annotations

from sqladmin import Admin
from sqladmin._menu import CategoryMenu
from starlette.requests import Request


class VisibleCategoryMenu(CategoryMenu):
    def is_visible(self, request: Request) -> bool:
        return any(child.is_visible(request) and child.is_accessible(request) for child in self.children)


def hide_empty_groups(admin: Admin) -> None:
    """Swap SQLAdmin's groups (always shown, even when every page in them is out of reach) for ones that hide."""
    menu = admin._menu
    for index, item in enumerate(menu.items):
        if isinstance(item, CategoryMenu) and not isinstance(item, VisibleCategoryMenu):
            group = VisibleCategoryMenu(item.name, item.icon)
            for child in item.children:
                group.add_child(child)
            menu.items[index] = group
