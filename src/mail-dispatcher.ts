import { createDeps, settingsFor } from "./deps";
import { Dispatcher } from "./dispatcher";
import { requestPasswordReset } from "./domain/auth/password-reset";
import { MAIL_INDEXES, MAIL_OUTBOX, sendDueMail } from "./domain/mail/outbox";
import { mailTransport } from "./mail/transport";

/** With the outbox empty, the dispatcher still looks again this often: the net under a wake-up that was lost. */
const IDLE_LOOK_MS = 5 * 60 * 1000;
/** After a failed run (the store unreachable, say), the next one. */
const AFTER_FAILURE_MS = 60 * 1000;

/**
 * One per master database (named by it): sends the mail outbox (domain/mail/outbox.ts) from its
 * alarm, as the webhook dispatcher delivers events. The object keeps only the database's name and
 * its alarm; the messages and their status are in the data store, so any store works and nothing
 * is lost when the object or the Worker restarts. One object, one run at a time: a message is
 * never sent twice by two runs at once.
 */
export class MailDispatcher extends Dispatcher {
  private indexed = false;

  /** A message was added: run now (or right after the run under way). */
  async poke(database: string): Promise<void> {
    this.poked = true;
    if ((await this.ctx.storage.get<string>("database")) !== database) await this.ctx.storage.put("database", database);
    const alarm = await this.ctx.storage.getAlarm();
    if (alarm === null || alarm > Date.now()) await this.ctx.storage.setAlarm(Date.now());
  }

  protected async run(): Promise<void> {
    this.poked = false;
    const database = await this.ctx.storage.get<string>("database");
    if (!database) return;
    const scoped = this.envFor(database);
    let next: number;
    try {
      const deps = await createDeps(scoped);
      if (!this.indexed) {
        await deps.data.collection(MAIL_OUTBOX).createIndexes(MAIL_INDEXES);
        this.indexed = true;
      }
      const { mail } = settingsFor(scoped);
      const wake = await sendDueMail(
        deps,
        (message) => mailTransport(mail.transport, mail.from, scoped.SEND_EMAIL).send(message),
        (email) => requestPasswordReset(deps, email),
      );
      next = wake ? Math.max(Date.now(), wake.getTime()) : Date.now() + IDLE_LOOK_MS;
    } catch (error) {
      console.error(JSON.stringify({ msg: "mail dispatch failed; retrying later", error: String(error) }));
      next = Date.now() + AFTER_FAILURE_MS;
    }
    // A poke during the run may have found the alarm running and set none: look again at once.
    await this.ctx.storage.setAlarm(this.poked ? Date.now() : next);
  }
}
