import { domainKeys } from "@/lib/queryKeys";

export const annotationKeys = domainKeys("annotations");
