import { domainKeys } from "@/lib/queryKeys";

export const revisionKeys = domainKeys("revisions");
