import type { Doc } from "../../dataapi/engine";
import type { Deps } from "../kernel/deps";
import { defineOperation, type Operation } from "../kernel/operation";
import { type QueuedMail, queueMail } from "./outbox";

/**
 * Mail a change asks for travels as its event does (events/carried.ts): the message is carried on
 * the document the change writes (`carried_mail`), in the same write, then queued in the outbox and
 * cleared, after the answer. A crash between the change and the outbox leaves the message carried,
 * and the reconciler queues it: an invitation stored is an invitation mailed, a reset link set is a
 * link sent. Queueing is idempotent (the outbox document has the message's id), so a step run twice
 * sends once.
 */
export interface CarryingMail {
  carrier: unknown;
  mail: QueuedMail;
}

type Carrier = Doc & { _id: unknown; carried_mail?: QueuedMail[] };

/** What the change's `$push` adds to carry `mail` on its document: nothing for no message. */
export const carryMail = (mail: QueuedMail | null): { carried_mail?: QueuedMail } => (mail ? { carried_mail: mail } : {});

/** Declares the operation of the documents of `collection` that carry mail: queue it, then clear it. */
export const carriedMailOperation = (declaration: { kind: string; collection: string }): Operation<CarryingMail> => {
  const carriers = (deps: Deps) => deps.data.collection<Carrier>(declaration.collection);
  return defineOperation<CarryingMail>({
    kind: declaration.kind,
    marker: `the document in \`${declaration.collection}\` carrying a message for the mail outbox`,
    abandoned: async (deps, olderThan, limit) => {
      const docs = await carriers(deps).find({ "carried_mail.at": { $lt: olderThan } }, { limit, projection: { carried_mail: 1 } });
      return docs.flatMap((doc) => (doc.carried_mail ?? []).filter((mail) => mail.at < olderThan).map((mail) => ({ carrier: doc._id, mail })));
    },
    steps: [
      // Both after the answer: the caller waits for neither, and the reconciler finishes either.
      // A carrier gone by then (an organization's deletion took its invitation) leaves nothing to send.
      {
        name: "queue",
        run: async (deps, { carrier, mail }) => {
          if ((await carriers(deps).countDocuments({ _id: carrier })) > 0) await queueMail(deps, mail);
        },
        afterAnswer: true,
      },
      { name: "clear", run: (deps, { carrier, mail }) => carriers(deps).updateOne({ _id: carrier }, { $pullAll: { carried_mail: [mail] } }) },
    ],
  });
};
