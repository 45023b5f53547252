/**
 * The typed-document marker, structurally identical to
 * `DocumentTypeDecoration` of `@graphql-typed-document-node/core`, declared
 * here so the package needs no dependency (that package pulls in graphql as
 * a peer). Documents stay usable by any client that understands
 * TypedDocumentNode strings (urql, graphql-request, ...).
 */
/* eslint-disable @typescript-eslint/no-explicit-any -- the upstream declaration, kept identical */
export interface DocumentTypeDecoration<
  TResult = { [key: string]: any },
  TVariables = { [key: string]: any },
> {
  /** Carries the result and variables types; never set at run time. */
  __apiType?: (variables: TVariables) => TResult;
}
/* eslint-enable @typescript-eslint/no-explicit-any */
