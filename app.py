"""Handover's routes: each reads its input, calls chalicelib, and returns JSON or a page."""

from __future__ import annotations

from urllib.parse import unquote

from chalice import Chalice, Rate, Response

from chalicelib import auth, models, web
from chalicelib.config import MAIL_QUEUE_NAME, get_settings
from chalicelib.lazy import on_first_use

# Every request passes through web (and reads its caller through auth and models); the rest loads
# with the first route that uses it.
admin_pages = on_first_use("admin_pages")
audit = on_first_use("audit")
collaborators = on_first_use("collaborators")
console = on_first_use("console")
directory = on_first_use("directory")
files = on_first_use("files")
groups = on_first_use("groups")
link_policy = on_first_use("link_policy")
links = on_first_use("links")
login = on_first_use("login")
mail = on_first_use("mail")
mail_pages = on_first_use("mail_pages")
notices = on_first_use("notices")
openapi = on_first_use("openapi")
pages = on_first_use("pages")
profile = on_first_use("profile")
paging = on_first_use("paging")
people = on_first_use("people")
preferences = on_first_use("preferences")
qr = on_first_use("qr")
recipients = on_first_use("recipients")
scans = on_first_use("scans")
shapes = on_first_use("shapes")
uploads = on_first_use("uploads")
urls = on_first_use("urls")
versions = on_first_use("versions")
zips = on_first_use("zips")

app = Chalice(app_name="handover", configure_logs=False)
web.install(app)
models.bind(get_settings())

if get_settings().stage == "local":
    # The hosted login page's stand-in: never part of a deployed API (see devstack/local_login.py).
    from devstack import local_login

    app.register_blueprint(local_login.blueprint, url_prefix="/local-login")
    # The outbox of moto's SES: never part of a deployed API (see devstack/outbox.py).
    from devstack import outbox

    app.register_blueprint(outbox.blueprint, url_prefix="/local-outbox")


def _call(role: str | None = None) -> web.Call:
    """The current request through the one way in; `role` is its gate (see web.call)."""
    return web.call(app.current_request, role)


def _member() -> web.Call:
    return _call(auth.MEMBER)


def _admin() -> web.Call:
    return _call(auth.ADMIN)


# --- Member API: files ---------------------------------------------------------------


@app.route("/api/files", methods=["POST"])
def create_file() -> Response:
    call = _member()
    record, upload = files.create_file(call.member.sub, shapes.decode(call.body, shapes.NewFile))
    return web.json_response({"file": files.describe(record), "upload": upload}, 201)


@app.route("/api/files", methods=["GET"])
def list_files() -> Response:
    call = _member()
    limit = paging.limit(call.query("limit"))
    page, cursor = files.list_files(call.member.sub, limit, call.query("cursor"), call.query("folder_id"))
    return web.json_response({"files": [files.describe(f) for f in page], "next_cursor": cursor})


@app.route("/api/files/{file_id}", methods=["GET"])
def get_file(file_id: str) -> Response:
    call = _member()
    return web.json_response({"file": files.describe(files.owned_file(call.member.sub, file_id))})


@app.route("/api/files/{file_id}", methods=["PATCH"])
def rename_file(file_id: str) -> Response:
    call = _member()
    record = files.rename(call.member.sub, file_id, shapes.decode(call.body, shapes.NewName).name, call.actor)
    return web.json_response({"file": files.describe(record)})


@app.route("/api/folders", methods=["POST"])
def create_folder() -> Response:
    call = _member()
    folder = files.create_folder(call.member.sub, shapes.decode(call.body, shapes.NewFolder), call.actor)
    return web.json_response({"file": files.describe(folder)}, 201)


@app.route("/api/files/{file_id}/events", methods=["GET"])
def list_events(file_id: str) -> Response:
    call = _member()
    record = files.owned_file(call.member.sub, file_id)
    page, cursor = audit.events_of(record.file_id, paging.limit(call.query("limit")), call.query("cursor"))
    return web.json_response({"events": [audit.describe(e) for e in page], "next_cursor": cursor})


@app.route("/api/files/{file_id}/events.csv", methods=["GET"])
def export_events(file_id: str) -> Response:
    call = _member()
    record = files.owned_file(call.member.sub, file_id)
    text, cursor = audit.as_csv(record.file_id, call.query("cursor"))
    more = urls.url_for(call.site, "export_events", file_id=file_id, cursor=cursor) if cursor else None
    return web.csv_response(text, f"history-{record.name}.csv", more)


@app.route("/api/files/{file_id}", methods=["DELETE"])
def delete_file(file_id: str) -> Response:
    call = _member()
    files.delete_file(call.member.sub, file_id, call.actor)
    return Response(body="", status_code=204)


@app.route("/api/files/{file_id}/upload", methods=["POST"])
def renew_upload(file_id: str) -> Response:
    call = _member()
    return web.json_response({"upload": files.renew_upload(call.member.sub, file_id)})


@app.route("/api/files/{file_id}/complete", methods=["POST"])
def complete_file(file_id: str) -> Response:
    call = _member()
    record = files.complete_file(call.member.sub, file_id, call.actor)
    return web.json_response({"file": files.describe(record)})


@app.route("/api/files/{file_id}/versions", methods=["GET"])
def list_versions(file_id: str) -> Response:
    call = _member()
    file = files.owned_file(call.member.sub, file_id)
    page, cursor = versions.list_versions(file, paging.limit(call.query("limit")), call.query("cursor"))
    return web.json_response({"versions": [versions.describe(v, file, call.site) for v in page], "next_cursor": cursor})


@app.route("/api/files/{file_id}/versions/{version_id}/download", methods=["GET"])
def download_version(file_id: str, version_id: str) -> Response:
    call = _member()
    return web.redirect(versions.download_url(files.owned_file(call.member.sub, file_id), version_id, call.actor))


# --- Member API: links ---------------------------------------------------------------


@app.route("/api/files/{file_id}/links", methods=["POST"])
def create_link(file_id: str) -> Response:
    call = _member()
    options = shapes.decode(call.body, shapes.NewLink)
    link = links.create_link(files.owned_file(call.member.sub, file_id), options, call.actor)
    return web.json_response({"link": links.describe(link, call.site)}, 201)


@app.route("/api/files/{file_id}/links", methods=["GET"])
def list_links(file_id: str) -> Response:
    call = _member()
    found = links.links_of_file(files.owned_file(call.member.sub, file_id))
    return web.json_response({"links": [links.describe(link, call.site) for link in found]})


@app.route("/api/links/{token}", methods=["PATCH"])
def change_link(token: str) -> Response:
    call = _member()
    change = shapes.decode(call.body, shapes.LinkChange)
    link = links.change_link(links.owned_link(call.member.sub, token), change, call.actor)
    return web.json_response({"link": links.describe(link, call.site)})


@app.route("/api/links/{token}", methods=["DELETE"])
def revoke_link(token: str) -> Response:
    call = _member()
    link = links.revoke_link(links.owned_link(call.member.sub, token), call.actor)
    return web.json_response({"link": links.describe(link, call.site)})


@app.route("/api/links/{token}/qr.svg", methods=["GET"])
def link_qr_svg(token: str) -> Response:
    call = _member()
    links.owned_link(call.member.sub, token)
    svg = qr.svg(links.addresses(token, call.site)["url"])
    return Response(body=svg, headers={"Content-Type": "image/svg+xml"})


@app.route("/api/links/{token}/qr.png", methods=["GET"])
def link_qr_png(token: str) -> Response:
    call = _member()
    links.owned_link(call.member.sub, token)
    png = qr.png(links.addresses(token, call.site)["url"])
    return Response(body=png, headers={"Content-Type": "image/png"})


# --- Member API: collaborators on folders -----------------------------------------------


@app.route("/api/files/{file_id}/collaborators", methods=["GET"])
def list_collaborators(file_id: str) -> Response:
    call = _member()
    return web.json_response(collaborators.of_folder(call.member.sub, file_id))


@app.route("/api/files/{file_id}/collaborators", methods=["POST"])
def invite_collaborator(file_id: str) -> Response:
    call = _member()
    body = shapes.decode(call.body, shapes.NewInvitation)
    invitation = collaborators.invite(call.member.sub, file_id, body.email, body.role, call.actor)
    return web.json_response({"invitation": collaborators.describe_invitation(invitation, call.site)}, 201)


@app.route("/api/files/{file_id}/join-link", methods=["POST"])
def create_join_link(file_id: str) -> Response:
    call = _member()
    invitation = collaborators.join_link(
        call.member.sub, file_id, shapes.decode(call.body, shapes.NewJoinLink, empty=True).role, call.actor
    )
    return web.json_response({"join_link": collaborators.describe_invitation(invitation, call.site)}, 201)


@app.route("/api/files/{file_id}/invitations/{invitation_id}/resend", methods=["POST"])
def resend_invitation(file_id: str, invitation_id: str) -> Response:
    call = _member()
    invitation = collaborators.resend(call.member.sub, file_id, invitation_id, call.actor)
    return web.json_response({"invitation": collaborators.describe_invitation(invitation, call.site)})


@app.route("/api/files/{file_id}/invitations/{invitation_id}", methods=["DELETE"])
def cancel_invitation(file_id: str, invitation_id: str) -> Response:
    call = _member()
    collaborators.cancel(call.member.sub, file_id, invitation_id, call.actor)
    return Response(body="", status_code=204)


@app.route("/api/files/{file_id}/requests/{request_id}", methods=["POST"])
def answer_join_request(file_id: str, request_id: str) -> Response:
    call = _member()
    approve = shapes.decode(call.body, shapes.Decision).approve
    collaborators.decide(call.member.sub, file_id, unquote(request_id), approve, call.actor)
    return web.json_response(collaborators.of_folder(call.member.sub, file_id))


@app.route("/api/files/{file_id}/collaborators/{person}", methods=["DELETE"])
def remove_collaborator(file_id: str, person: str) -> Response:
    call = _member()
    who = collaborators.normalise_person(unquote(person))
    collaborators.remove_from_own(call.member.sub, file_id, who, call.actor)
    return Response(body="", status_code=204)


# --- Admin API: external users --------------------------------------------------------


@app.route("/api/admin/external-users", methods=["GET"])
def list_external_users() -> Response:
    call = _admin()
    found, cursor = people.list_external(shapes.people_query(call.request.query_params or {}))
    return web.json_response({"users": [people.describe(p) for p in found], "next_cursor": cursor})


@app.route("/api/admin/external-users/sync", methods=["POST"])
def sync_external_users() -> Response:
    _admin()
    return web.json_response(people.sync())


@app.route("/api/admin/external-users/{username}", methods=["DELETE"])
def delete_external_user(username: str) -> Response:
    call = _admin()
    people.delete_external(username, call.actor)
    return Response(body="", status_code=204)


@app.route("/api/admin/external-users/delete", methods=["POST"])
def delete_external_users() -> Response:
    call = _admin()
    return web.json_response(people.delete_many(shapes.decode(call.body, shapes.Usernames).usernames, call.actor))


# --- Admin API: collaborators -----------------------------------------------------------


@app.route("/api/admin/collaborators", methods=["GET"])
def list_all_collaborators() -> Response:
    _admin()
    return web.json_response({"collaborators": collaborators.collaborators_list()})


@app.route("/api/admin/collaborators/{username}/folders", methods=["GET"])
def collaborator_folders(username: str) -> Response:
    _admin()
    _, folders = collaborators.folders_of_user(username)
    return web.json_response({"folders": folders})


@app.route("/api/admin/collaborators/{username}/folders/{folder_id}", methods=["DELETE"])
def remove_collaborator_from_folder(username: str, folder_id: str) -> Response:
    call = _admin()
    person, _ = collaborators.folders_of_user(username)
    collaborators.remove(folder_id, person, call.actor)
    return Response(body="", status_code=204)


@app.route("/api/admin/collaborators/{username}", methods=["DELETE"])
def remove_collaborator_everywhere(username: str) -> Response:
    call = _admin()
    person, _ = collaborators.folders_of_user(username)
    collaborators.forget(person, call.actor)
    return Response(body="", status_code=204)


# --- Admin API: directory groups ------------------------------------------------------


@app.route("/api/admin/groups", methods=["GET"])
def list_groups() -> Response:
    _admin()
    return web.json_response({"groups": directory.directory_groups()})


@app.route("/api/admin/groups", methods=["POST"])
def create_group() -> Response:
    call = _admin()
    return web.json_response({"group": groups.create(shapes.decode(call.body, shapes.NewGroup).name, call.actor)}, 201)


@app.route("/api/admin/groups/{name}", methods=["PATCH"])
def rename_group(name: str) -> Response:
    call = _admin()
    return web.json_response({"group": groups.rename(name, shapes.decode(call.body, shapes.NewGroup).name, call.actor)})


@app.route("/api/admin/groups/{name}", methods=["DELETE"])
def delete_group(name: str) -> Response:
    call = _admin()
    groups.delete(name, call.actor)
    return Response(body="", status_code=204)


@app.route("/api/admin/groups/{name}/people", methods=["POST"])
def add_to_group(name: str) -> Response:
    call = _admin()
    groups.add_person(name, shapes.decode(call.body, shapes.PersonRef).person, call.actor)
    return Response(body="", status_code=204)


@app.route("/api/admin/groups/{name}/people/{person}", methods=["DELETE"])
def remove_from_group(name: str, person: str) -> Response:
    call = _admin()
    groups.remove_person(name, unquote(person), call.actor)
    return Response(body="", status_code=204)


# --- Member API: email ------------------------------------------------------------------


@app.route("/api/me/preferences", methods=["GET"])
def get_preferences() -> Response:
    call = _member()
    return web.json_response({"preferences": preferences.describe(call.member.sub)})


@app.route("/api/me/preferences", methods=["PATCH"])
def change_preferences() -> Response:
    call = _member()
    change = shapes.decode(call.body, shapes.PreferencesChange)
    return web.json_response({"preferences": preferences.change(call.member.sub, change)})


@app.route("/api/links/{token}/access-requests", methods=["POST"])
def answer_access_request(token: str) -> Response:
    call = _member()
    answer = shapes.decode(call.body, shapes.AccessAnswer)
    link = links.answer_access(links.owned_link(call.member.sub, token), answer.email, answer.approve, call.actor)
    return web.json_response({"link": links.describe(link, call.site)})


# --- Admin API: how long links may work -------------------------------------------------


@app.route("/api/admin/link-policy", methods=["GET"])
def get_link_policy() -> Response:
    _admin()
    return web.json_response({"policy": link_policy.current()})


@app.route("/api/admin/link-policy", methods=["PUT"])
def set_link_policy() -> Response:
    call = _admin()
    policy = link_policy.save(shapes.decode(call.body, shapes.LinkPolicyChange), call.actor)
    return web.json_response({"policy": policy})


@app.route("/api/openapi.json", methods=["GET"])
def openapi_document() -> Response:
    return web.json_response(openapi.document())


# --- Recipient pages -----------------------------------------------------------------


@app.route("/s/{token}", methods=["GET"])
def landing(token: str) -> Response:
    return web.html_response(recipients.link_page(token, _call()))


@app.route("/s/{token}/password", methods=["POST"], content_types=[web.FORM])
def unlock_link(token: str) -> Response:
    answer = recipients.unlock(token, _call())
    if isinstance(answer, recipients.Unlocked):
        return web.redirect(answer.location, [answer.cookie] if answer.cookie else None, status=303)
    return web.html_response(answer, 401)


@app.route("/s/{token}/download", methods=["GET"])
def download(token: str) -> Response:
    return web.redirect(recipients.download(token, _call(), counted=False))


@app.route("/s/{token}/download", methods=["POST"], content_types=[web.FORM, "application/json"])
def download_counted(token: str) -> Response:
    return web.redirect(recipients.download(token, _call()), status=303)


@app.route("/s/{token}/files/{file_id}/download", methods=["GET"])
def download_from_folder(token: str, file_id: str) -> Response:
    return web.redirect(recipients.folder_download(token, file_id, _call()))


@app.route("/s/{token}/zip", methods=["POST"])
def folder_zip(token: str) -> Response:
    call = _call()
    return web.json_response({"zip": zips.start(token, call, call.site)}, 202)


@app.route("/s/{token}/zip/{ticket}", methods=["GET"])
def folder_zip_status(token: str, ticket: str) -> Response:
    call = _call()
    return web.json_response({"zip": zips.progress(token, ticket, call, call.site)})


@app.route("/s/{token}/zip/{ticket}/download", methods=["GET"])
def folder_zip_download(token: str, ticket: str) -> Response:
    call = _call()
    return web.redirect(zips.download_url(token, ticket, call))


@app.lambda_function(name="zip_builder")
def build_zip(event: dict, context: object) -> None:
    """Download all's builder: its own Lambda function, invoked asynchronously (see chalicelib/zips.py)."""
    zips.build(event["zip_id"])


@app.route("/s/{token}/request-access", methods=["POST"])
def request_access(token: str) -> Response:
    return web.html_response(recipients.request_access(token, _call()))


@app.route("/portal", methods=["GET"])
def portal() -> Response:
    return web.html_response(recipients.portal(_call()))


@app.route("/join/{token}", methods=["GET"])
def join(token: str) -> Response:
    answer = recipients.join(token, _call())
    return web.redirect(answer.location) if isinstance(answer, recipients.Redirect) else web.html_response(answer)


@app.route("/portal/folders/{folder_id}", methods=["GET"])
def portal_folder(folder_id: str) -> Response:
    return web.html_response(recipients.collaborator_folder(folder_id, _call()))


@app.route("/portal/folders/{folder_id}/files/{file_id}/download", methods=["GET"])
def portal_download(folder_id: str, file_id: str) -> Response:
    return web.redirect(recipients.collaborator_download(folder_id, file_id, _call()))


@app.route("/admin", methods=["GET"])
def admin_page() -> Response:
    call = _admin()
    return web.html_response(admin_pages.render(call.viewer, call.request.query_params or {}, call.site))


@app.route("/", methods=["GET"])
def home() -> Response:
    call = _call()
    return web.html_response(pages.home(call.viewer, call.site))


@app.route("/profile", methods=["GET"])
def profile_page() -> Response:
    call = _call()
    return web.html_response(profile.page(call.viewer, call.site))


@app.route("/profile", methods=["POST"])
def change_profile() -> Response:
    call = _call()
    changed = profile.update(call.viewer, shapes.decode(call.body, shapes.ProfileChange))
    return web.json_response({"name": changed.name, "phone": changed.phone})


# --- Member console (pages; changes go through the API above) -------------------------


@app.route("/console", methods=["GET"])
def console_top() -> Response:
    call = _member()
    return web.html_response(console.folder_page(call.viewer, call.site, None, call.query("cursor")))


@app.route("/console/folders/{folder_id}", methods=["GET"])
def console_folder(folder_id: str) -> Response:
    call = _member()
    return web.html_response(console.folder_page(call.viewer, call.site, folder_id, call.query("cursor")))


@app.route("/console/items/{file_id}", methods=["GET"])
def console_item(file_id: str) -> Response:
    call = _member()
    params = call.request.query_params or {}
    page = console.item_page(call.viewer, call.site, file_id, call.query("tab"), call.query("cursor"), params)
    return web.html_response(page)


@app.route("/console/email", methods=["GET"])
def console_email() -> Response:
    call = _member()
    return web.html_response(mail_pages.email_page(call.viewer, call.site))


@app.route("/console/access/{token}", methods=["GET"])
def access_request_page(token: str) -> Response:
    call = _member()
    return web.html_response(mail_pages.access_request_page(call.viewer, call.site, token, call.query("email")))


# --- Sign-in through the hosted login page --------------------------------------------


@app.route("/auth/login", methods=["GET"])
def sign_in() -> Response:
    call = _call()
    started = login.begin(call.site, login.safe_next(call.query("next")))
    return web.redirect(started.location, started.cookies)


@app.route("/auth/callback", methods=["GET"])
def sign_in_callback() -> Response:
    call = _call()
    cookie = call.request.headers.get("cookie")
    done = login.finish(call.site, call.query("code"), call.query("state"), cookie, call.actor)
    return web.redirect(done.location, done.cookies)


@app.route("/auth/logout", methods=["GET"])
def sign_out() -> Response:
    call = _call()
    done = login.logout(call.site, call.request.headers.get("cookie"), login.safe_next(call.query("next")))
    return web.redirect(done.location, done.cookies)


@app.route("/auth/signed-out", methods=["GET"])
def signed_out() -> Response:
    call = _call()
    done = login.signed_out(call.site, call.request.headers.get("cookie"))
    return web.redirect(done.location, done.cookies)


# --- Recipient uploads: JSON, for the landing page's uploader and for scripts ----------


@app.route("/s/{token}/uploads", methods=["POST"])
def start_upload(token: str) -> Response:
    call = _call()
    inbox = uploads.through_link(token, call.person, call.actor, call.cookies)
    return web.json_response({"upload": uploads.start(inbox, call.body, call.actor)}, 201)


@app.route("/s/{token}/uploads/{upload_id}/plan", methods=["POST"])
def renew_recipient_upload(token: str, upload_id: str) -> Response:
    call = _call()
    inbox = uploads.through_link(token, call.person, call.actor, call.cookies)
    return web.json_response({"upload": uploads.renew(inbox, upload_id, call.actor)})


@app.route("/s/{token}/uploads/{upload_id}", methods=["GET"])
def recipient_upload(token: str, upload_id: str) -> Response:
    call = _call()
    inbox = uploads.through_link(token, call.person, call.actor)
    return web.json_response({"upload": uploads.status(inbox, upload_id)})


@app.route("/s/{token}/uploads/{upload_id}/complete", methods=["POST"])
def complete_upload(token: str, upload_id: str) -> Response:
    call = _call()
    inbox = uploads.through_link(token, call.person, call.actor, call.cookies)
    return web.json_response({"upload": uploads.complete(inbox, upload_id, call.actor)})


@app.route("/portal/folders/{folder_id}/uploads", methods=["POST"])
def start_folder_upload(folder_id: str) -> Response:
    call = _call()
    inbox = collaborators.inbox(call.person, folder_id)
    return web.json_response({"upload": uploads.start(inbox, call.body, call.actor)}, 201)


@app.route("/portal/folders/{folder_id}/uploads/{upload_id}/plan", methods=["POST"])
def renew_folder_upload(folder_id: str, upload_id: str) -> Response:
    call = _call()
    inbox = collaborators.inbox(call.person, folder_id)
    return web.json_response({"upload": uploads.renew(inbox, upload_id, call.actor)})


@app.route("/portal/folders/{folder_id}/uploads/{upload_id}", methods=["GET"])
def folder_upload(folder_id: str, upload_id: str) -> Response:
    call = _call()
    inbox = collaborators.inbox(call.person, folder_id)
    return web.json_response({"upload": uploads.status(inbox, upload_id)})


@app.route("/portal/folders/{folder_id}/uploads/{upload_id}/complete", methods=["POST"])
def complete_folder_upload(folder_id: str, upload_id: str) -> Response:
    call = _call()
    inbox = collaborators.inbox(call.person, folder_id)
    return web.json_response({"upload": uploads.complete(inbox, upload_id, call.actor)})


@app.route("/static/{name}", methods=["GET"])
def static(name: str) -> Response:
    return web.static_response(name)


# --- Email: sent from a queue, and a daily job ------------------------------------------


@app.on_sqs_message(queue=MAIL_QUEUE_NAME, batch_size=1)
def send_mail(event) -> None:  # noqa: ANN001 - chalice's SQSEvent
    """One queued mail; raising leaves it on the queue for SQS to retry (then its dead-letter queue)."""
    for record in event:
        notices.deliver(record.body, int(record.to_dict().get("attributes", {}).get("ApproximateReceiveCount", "1")))


@app.schedule(Rate(1, unit=Rate.DAYS))
def daily_mail(event) -> None:  # noqa: ANN001 - chalice's CloudWatchEvent
    """Reminders of used links ending within 3 days, and yesterday's download digests."""
    notices.daily()


@app.route("/favicon.ico", methods=["GET"])
def favicon() -> Response:
    return web.static_response("favicon.svg")  # for clients that ask before reading the page's <link rel=icon>


# --- Malware scan results: GuardDuty's EventBridge events (the dev stack's stand-in sends the same) ---


@app.on_cw_event({"source": ["aws.guardduty"], "detail-type": ["GuardDuty Malware Protection Object Scan Result"]})
def scan_result(event) -> None:
    scans.record_event(event.to_dict())


if get_settings().stage == "local":
    # GuardDuty's stand-in: never part of a deployed app (see devstack/scanner.py).
    from devstack import scanner

    scanner.start(scan_result)
