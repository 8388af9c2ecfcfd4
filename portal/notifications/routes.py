"""The notification list."""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_login import current_user

from portal.access import signed_in
from portal.edge import page_arg
from portal.extensions import db
from portal.forms import EmptyForm
from portal.notifications import bp
from portal.notifications.services import mark_all_read, notifications_page


@bp.route("/")
@signed_in
def index():
    page = notifications_page(current_user, page_arg())
    return render_template("notifications/index.html", page=page, form=EmptyForm())


@bp.route("/read-all", methods=["POST"])
@signed_in
def read_all():
    if EmptyForm().validate_on_submit():
        changed = mark_all_read(current_user)
        db.session.commit()
        flash("All caught up." if changed else "There was nothing unread.", "success")
    return redirect(url_for("notifications.index"), code=303)
